from django import forms


class StructureUploadForm(forms.Form):
    file = forms.FileField(help_text="CIF, XYZ/extXYZ or POSCAR (.vasp)")
    name = forms.CharField(max_length=200, required=False)
