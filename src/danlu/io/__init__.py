"""Files danlu writes and reads, with no torch import.

- :mod:`danlu.io.files`: atomic writes (a crash leaves the old file or the new one) and JSON.
- :mod:`danlu.io.arrays`: safetensors files of numpy arrays with string metadata.
- :mod:`danlu.io.metadata`: a flat dataclass (a model's spec) as that metadata and back.

The torch side (tensors, checkpoints) is :mod:`danlu.train.checkpoint`, built on these.
"""

from danlu.io.arrays import load_arrays, pack_metadata, read_safetensors_metadata, save_arrays
from danlu.io.files import atomic_write, fsync_file, replacing, write_json
from danlu.io.metadata import from_metadata, to_metadata

__all__ = [
    "atomic_write",
    "from_metadata",
    "fsync_file",
    "load_arrays",
    "pack_metadata",
    "read_safetensors_metadata",
    "replacing",
    "save_arrays",
    "to_metadata",
    "write_json",
]
