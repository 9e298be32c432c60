"""Every storage format by its stable name, and the subset :func:`size_table` measures by default."""

from __future__ import annotations

from prunebench.prune.formats.bitmask import Bitmask
from prunebench.prune.formats.compressed import Compressed, Gzip, Zstd
from prunebench.prune.formats.coordinate import COO_INT64, PAPER_TF1
from prunebench.prune.formats.csr import CSR_INT32, CSR_REL_UINT8
from prunebench.prune.formats.dense import DenseFloat32
from prunebench.prune.formats.gap import FlatGap
from prunebench.prune.formats.structured import BlockBitmask, DenseTrimmed
from prunebench.prune.formats.values import ValueCoding
from prunebench.validators import registry_names

FLOAT32 = ValueCoding("<f4", shuffle=False)
FLOAT32_SHUFFLED = ValueCoding("<f4", shuffle=True)

LAYOUTS = [DenseFloat32(), PAPER_TF1, COO_INT64, CSR_INT32, CSR_REL_UINT8, Bitmask(FLOAT32), BlockBitmask(FLOAT32),
           DenseTrimmed(FLOAT32)]
_BEYOND = [
    Compressed(Bitmask(FLOAT32_SHUFFLED), Zstd()),
    Compressed(FlatGap(FLOAT32_SHUFFLED), Zstd()),
    Compressed(Bitmask(ValueCoding("<f2", shuffle=False)), Zstd()),
    Compressed(Bitmask(ValueCoding("<f2", shuffle=True)), Zstd()),
]
_ALL = LAYOUTS + [Compressed(layout, codec) for codec in (Zstd(), Gzip()) for layout in LAYOUTS] + _BEYOND
FORMATS = {fmt.name: fmt for fmt in _ALL}

# zstd-19 and zlib-9 are very slow on the highly repetitive index arrays of the coordinate and CSR layouts
# and on mostly-zero dense data (docs/engines.md), and never beat the bitmask family there; the default table
# keeps every raw layout (sizes are arithmetic) plus the compressed formats that can be the smallest.
SIZE_TABLE_FORMATS = (*[layout.name for layout in LAYOUTS],
                      "dense-float32+gzip", "bitmask+zstd", "bitmask+gzip", "bitmask-1x4+zstd",
                      "bitmask+shuffle+zstd", "gap-uint8+shuffle+zstd", "bitmask-f16+shuffle+zstd")
# The CI profile's table: every raw layout, each codec on dense float32 and on the bitmask, and the smallest
# lossless format of its models. Left out: the 1x4-block bitmask (it pays for block-pruned models, which
# one-shot does not build), gap-uint8 (within 0.6% of the shuffled bitmask on the paper CNN up to 90%, the CI's
# range, in the committed runs) and the lossy float16 variant. At zstd level 19 those three take more than half
# of a model's size-table time.
CI_SIZE_TABLE_FORMATS = tuple(name for name in SIZE_TABLE_FORMATS if name not in {
    "bitmask-1x4+zstd", "gap-uint8+shuffle+zstd", "bitmask-f16+shuffle+zstd"})


def parse_formats(text: str) -> tuple[str, ...]:
    """``--formats``: a comma list of registered storage format names."""
    return registry_names(text, FORMATS, "format", "storage format")
