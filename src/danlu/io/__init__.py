"""Files danlu writes and reads, with no torch import.

- :mod:`danlu.io.files`: atomic writes (a crash leaves the old file or the new one) and JSON.
- :mod:`danlu.io.arrays`: safetensors files of numpy arrays with string metadata.
- :mod:`danlu.io.metadata`: a flat dataclass (a model's spec) as that metadata and back.
- :mod:`danlu.io.run_folder`: claiming ``--out DIR`` for one run (checked, locked).
- :mod:`danlu.io.text`: lines of files and standard input, UTF-8 or one clear error.

The torch side (tensors, checkpoints) is :mod:`danlu.train.checkpoint`, built on these.
"""

from danlu.io.arrays import load_arrays, pack_metadata, read_safetensors_metadata, save_arrays
from danlu.io.files import atomic_write, fsync_file, replacing, write_json
from danlu.io.metadata import from_metadata, to_metadata
from danlu.io.run_folder import check_output_file, check_output_folder, claim_run_folder
from danlu.io.text import stdin_is_terminal, stdin_lines, utf8_lines

__all__ = [
    "atomic_write",
    "check_output_file",
    "check_output_folder",
    "claim_run_folder",
    "from_metadata",
    "fsync_file",
    "load_arrays",
    "pack_metadata",
    "read_safetensors_metadata",
    "replacing",
    "save_arrays",
    "stdin_is_terminal",
    "stdin_lines",
    "to_metadata",
    "utf8_lines",
    "write_json",
]
