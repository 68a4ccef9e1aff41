"""Models every installation has, with the SHA-256 of the weight file each package ships.

SevenNet (sevenn 0.10.4 wheel: SevenNet-0 11Jul2024 = default, SevenNet-0 22May2024, l3i5) and
CHGNet (chgnet 0.4.2 wheel: 0.3.0) load offline; the loaders refuse a weight file whose checksum
is not the one pinned here, and the row's ``sha256`` is that checksum, so every result records
the exact weights. ASE's EMT is a tiny analytic potential for tests and demos of mechanics.
A row exists even where its family's package is not installed: only nodes that report the
family run it (``models_app.families``). MACE models come from a file (upload,
``register_model``, a training job, or ``install_wheel_model`` for ``mace-dac-1``).
"""

SEVENNET_0 = "7052cb42b7b3be42b40b97fa0d21077a48c54b5548948fc4dcf346629f813c36"
SEVENNET_0_22MAY = "5d389fafd512e6ae2830d74d0b66ffc49a55d3832653ff8e7bf7f1343013c1d1"
SEVENNET_L3I5 = "a7ff190d41efe5b8317a03d20a468e4036a1a3e64e0b14fdbab64ac3f4bfc09d"
CHGNET_030 = "d14ab7c0f093efe64b60a7bcd540bca10e74fb7f46c86108a079af60524659d1"

BUILTIN_MODELS = [
    {
        "name": "sevennet-0",
        "family": "sevennet",
        "config": {"model_name": "7net-0", "weights_sha256": SEVENNET_0},
        "sha256": SEVENNET_0,
        "is_default": True,
        "description": "SevenNet-0 (11Jul2024), one of the MLIPs evaluated by MOFSimBench. Ships with sevenn.",
    },
    {
        "name": "sevennet-0-22may2024",
        "family": "sevennet",
        "config": {"model_name": "7net-0_22May2024", "weights_sha256": SEVENNET_0_22MAY},
        "sha256": SEVENNET_0_22MAY,
        "is_default": False,
        "description": "SevenNet-0 as first released (22May2024). Ships with sevenn.",
    },
    {
        "name": "sevennet-l3i5",
        "family": "sevennet",
        "config": {"model_name": "7net-l3i5", "weights_sha256": SEVENNET_L3I5},
        "sha256": SEVENNET_L3I5,
        "is_default": False,
        "description": "SevenNet-l3i5, evaluated by MOFSimBench. Ships with sevenn.",
    },
    {
        "name": "chgnet-0-3-0",
        "family": "chgnet",
        "config": {"model_name": "0.3.0", "weights_sha256": CHGNET_030},
        "sha256": CHGNET_030,
        "is_default": False,
        "description": "CHGNet 0.3.0 (MPtrj). Ships with chgnet (requirements/models/chgnet.txt). Not in MOFSimBench.",
    },
    {
        "name": "emt",
        "family": "emt",
        "config": {},
        "sha256": "",
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
