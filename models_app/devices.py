"""Run-time device choice (CUDA when present) and the facts recorded with every result."""

import os
import platform

from mofsim_site.worker_config import worker_config


def pick_device() -> str:
    forced = worker_config().device
    if forced:
        return forced
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def device_info(device: str) -> dict:
    import torch

    info = {"device": device, "torch": torch.__version__, "host": platform.node()}
    if device.startswith("cuda") and torch.cuda.is_available():
        index = torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        info.update(
            gpu_name=props.name,
            gpu_memory_total_mb=props.total_memory // (1024 * 1024),
            cuda=torch.version.cuda,
            cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES", ""),
        )
    else:
        info["gpu_name"] = ""
        info["cpu"] = platform.processor() or platform.machine()
        info["threads"] = torch.get_num_threads()
    return info
