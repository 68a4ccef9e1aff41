"""How task results are shown to a scientist: labels, units, precision, warnings, charts.

``fields`` maps result keys to label/unit/precision; ``present`` builds the per-type view of a
result (headline, DFT verdict, sections, warnings); ``charts`` draws its plots as inline SVG.
The warnings come from ``tasks_app.executors.warnings``, the same rules that wrote them into the
API result and the log.
"""
