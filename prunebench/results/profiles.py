"""The suite's profiles: named sets of protocol settings (steps, batch, test images, ratios, timed batches).

A run records its profile's name and settings; the expectations in ``verdicts/expectations`` describe each
profile with these values, and options given on the command line override single fields.
"""

from __future__ import annotations

from prunebench.model.constants import LEARNING_RATE, MNIST_TEST_IMAGES, PAPER_TRAIN_STEPS
from prunebench.prune.formats.registry import CI_SIZE_TABLE_FORMATS, SIZE_TABLE_FORMATS
from prunebench.prune.methods import METHODS
from prunebench.prune.policy import DEFAULT_PRUNED

# Settings that change a model's weights, and with the test images its accuracy: runs that differ in any
# of them are different experiments, not a change of code.
WEIGHT_SETTINGS = ("max_steps", "batch_size", "retrain_steps", "variables", "learning_rate", "workload")
ACCURACY_SETTINGS = (*WEIGHT_SETTINGS, "eval_images")

# The paper's protocol and a profile small enough for CI; options above override single fields.
PROFILES = {
    "paper": {"max_steps": PAPER_TRAIN_STEPS, "batch_size": 32, "retrain_steps": 2_000, "seeds": 1,
              "eval_images": MNIST_TEST_IMAGES,
              # the paper's eval commands time batches of 32. FC1 on the whole test set is not timed: no claim
              # or goal reads it, and the sparse engines take seconds a call there at the low ratios;
              # whole-test-set network rounds would take up to a minute each, too many for interleaved
              # rounds within the time budget
              "batches": (1, 32),
              "network_batches": (1, 32),
              "ratios": (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)},
    # quick: TF's SparseTensor matmul needs about a minute for the whole test set at 10% on 2 cores, so
    # CI measures accuracy on the first 2,000 test images and times batches of 1 and 32 only. One seed, as
    # the paper profile: each seed's models alone gave every claim the verdict both seeds gave (two CI runs'
    # results judged per seed); a second seed doubled the build, most of CI's time after the unit tests.
    # Its size table leaves out the formats that cost most of a model's measuring time (zstd at level 19 on
    # megabytes of float32) and that its claims and goals do not need (prune/formats/registry.py).
    "quick": {"max_steps": 600, "batch_size": 32, "retrain_steps": 150, "seeds": 1, "eval_images": 2_000,
              "batches": (1, 32), "network_batches": (1, 32),
              "ratios": (0.1, 0.3, 0.5, 0.7, 0.8, 0.9), "formats": CI_SIZE_TABLE_FORMATS},
    # methods: every registered method with the paper's step budgets (10,000 baseline, 2,000 after it for every
    # method) at the high ratios where one-shot is weak; the whole test set, networks timed at batch 1 and 32
    # on the paper's two networks only.
    "methods": {"max_steps": PAPER_TRAIN_STEPS, "batch_size": 32, "retrain_steps": 2_000, "seeds": 1,
                "eval_images": MNIST_TEST_IMAGES,
                "batches": (1, 32), "network_batches": (1, 32),
                "ratios": (0.9, 0.95, 0.98, 0.99), "methods": tuple(METHODS)},
}
PAPER_WORKLOAD = "paper-cnn"  # the default workload's name (model/workloads/paper_cnn.py); runs of it do not record it
# The settings every profile shares, so PROFILES does not name them: the suite's own defaults.
SHARED_SETTINGS = {"variables": DEFAULT_PRUNED, "learning_rate": LEARNING_RATE, "workload": PAPER_WORKLOAD,
                   "formats": SIZE_TABLE_FORMATS}
