"""GRACE (tensorpotential, TensorFlow). UNTESTED here; written against tensorpotential's
documented ``TPCalculator(model=<saved model dir>)`` and ``grace_fm(<name>)``.

TensorFlow places the model itself (``device`` is not passed; a CPU-only node hides GPUs with
``CUDA_VISIBLE_DEVICES``, which the launcher sets). Foundation models compute in float64.
"""


def build(spec: dict, device: str, dtype: str):
    if spec.get("model_path"):
        from tensorpotential.calculator import TPCalculator

        return TPCalculator(model=spec["model_path"])
    from tensorpotential.calculator import grace_fm

    return grace_fm(spec.get("model_name", "GRACE-2L-OAM"))
