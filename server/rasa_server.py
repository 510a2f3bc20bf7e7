"""`rasa` as CivicLine runs it: ``python -m server.rasa_server run ...`` is Rasa's own command
line (`rasa run ...`) in a lighter process (issue 12: RSS <= 1 GB per Rasa process).

Every Rasa server CivicLine starts goes through here (scripts/serve for `make run`,
scripts/production.py for `make serve` and the systemd units, the test and bench stacks), so
what `make bench` measures is what runs. Two things Rasa 3.6 loads and a server never uses:

- **JAX.** TensorFlow 2.12's TFLite helpers import JAX when it is installed (TensorFlow's
  wheel requires it), about 65 MB of a process that never converts a model to TFLite. Here
  ``import jax`` fails, as it does where JAX is missing, which TensorFlow expects.
- **The training half of each model.** To build its weights, Rasa's ``RasaModel.load``
  compiles the model with an Adam optimiser and trains it on one example: the optimiser's two
  copies of every weight and the traced training step (gradients included) stay in memory for
  the life of the server. Here (unless fine-tuning) the weights are built by the prediction
  the model runs anyway, then read from the checkpoint; the optimiser's saved state in it is
  left unread. The predictions are the same (tests/test_rasa_server.py compares them).

Sanic forks its workers (``SANIC_WORKERS``) from this process, so they inherit both.
"""

from __future__ import annotations

import sys
from typing import Any

BLOCKED = ("jax", "jaxlib")


def block_unused_imports() -> None:
    """``import jax`` raises ImportError from now on (None in sys.modules means that)."""
    for name in BLOCKED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def load_for_prediction(cls: Any, model_file_name: str, model_data_example: Any,
                        predict_data_example: Any = None, finetune_mode: bool = False,
                        *args: Any, **kwargs: Any) -> Any:
    """``RasaModel.load`` without the optimiser and the one training step (prediction only)."""
    if finetune_mode:  # training goes on: Rasa's own, optimiser and all
        return _rasa_load.__func__(cls, model_file_name, model_data_example,
                                   predict_data_example, finetune_mode, *args, **kwargs)
    model = cls(*args, **kwargs)
    model.compile(run_eagerly=kwargs.get("config", {}).get("run_eagerly"))
    example = predict_data_example if predict_data_example is not None else model_data_example
    model.run_inference(example)  # builds every weight prediction uses
    model.load_weights(model_file_name).expect_partial()  # the optimiser's slots: not read
    # What that first prediction prepared (label embeddings) and traced (with them captured)
    # came from the initial weights: prepared and traced again, from the trained ones.
    model.prepared_for_prediction = False
    model._tf_predict_step = None
    model.run_inference(example)
    return model


_rasa_load: Any = None


def install() -> None:
    """Both, before Rasa (and TensorFlow) are imported by anything else."""
    global _rasa_load
    block_unused_imports()
    from rasa.utils.tensorflow.models import RasaModel

    if _rasa_load is None:
        _rasa_load = RasaModel.__dict__["load"]
    RasaModel.load = classmethod(load_for_prediction)  # type: ignore[method-assign,assignment]


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
