"""Models every installation has: SevenNet-0 (default; weights in the sevenn wheel), SevenNet-l3i5
and ASE's EMT (a tiny analytic potential for tests and demos of mechanics). MACE models are
added from a file (upload, ``manage.py register_model`` or a training job)."""

BUILTIN_MODELS = [
    {
        "name": "sevennet-0",
        "family": "sevennet",
        "config": {"model_name": "7net-0"},
        "is_default": True,
        "description": "SevenNet-0 (11Jul2024), one of the MLIPs evaluated by MOFSimBench. Ships with sevenn.",
    },
    {
        "name": "sevennet-l3i5",
        "family": "sevennet",
        "config": {"model_name": "7net-l3i5"},
        "is_default": False,
        "description": "SevenNet-l3i5, evaluated by MOFSimBench. Ships with sevenn.",
    },
    {
        "name": "emt",
        "family": "emt",
        "config": {},
        "is_default": False,
        "description": "ASE EMT: an analytic potential for Cu/Ag/Au/Ni/Pd/Pt/Al (+H, C, N, O). For tests only.",
    },
]


def ensure_builtin_models(MLModel) -> None:
    for entry in BUILTIN_MODELS:
        MLModel.objects.update_or_create(
            name=entry["name"],
            defaults={**entry, "source": "builtin", "validation_status": "valid"},
        )
