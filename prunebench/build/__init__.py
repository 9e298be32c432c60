"""Building models: train, prune, retrain, sparsify and measure one model, and keep it in a cache.

``pipeline`` runs the paper's steps, ``builder`` measures a model into its results record (``make_builder``
pairs it with its cache), ``cache`` keeps built models under a hash of everything that affects them and holds
the one get-or-build, locally; ``shared_cache`` runs it over a store every node of a Ray cluster shares, on the
exclusive claims on its entries (``ownership``); ``ray_cluster`` builds a sweep as Ray tasks, ``progress`` reports on
all of it and ``tfmot_reference`` builds the outside reference of the gradual method. It may import ``results``,
``model``, ``prune`` and TensorFlow; not ``suite``, ``verdicts``, ``compare``, ``report`` or ``cli``.
"""
