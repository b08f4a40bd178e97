"""Training and evaluation of the student model on curated instruction data.

* :mod:`~curate.training.sft` - supervised fine-tuning with Alpaca's recipe (``train``);
* :mod:`~curate.training.evaluate` - TruthfulQA MC1/MC2 and user-oriented response loss
  (``evaluate``);
* :mod:`~curate.training.loglikelihood` - lm-evaluation-harness style continuation scoring
  with a shared-prefix KV cache (what TruthfulQA uses);
* :mod:`~curate.training.compare` - the raw-vs-clean ablation table (``compare``).

The student (:mod:`curate.models.student`), checkpoint loading and the masked response NLL
(:mod:`curate.models.lm`) and Alpaca's prompt templates (:mod:`curate.core.prompts`) live
lower down. The stages ``curate prepare-student``, ``curate train raw|clean``, ``curate
evaluate MODEL`` and ``curate compare`` run these with params.yaml. torch and transformers are
imported only when a function needs them. The evaluation entry point is
``curate.training.evaluate.evaluate`` (not re-exported here: the name would shadow the
submodule).
"""

from curate.core.prompts import PROMPT_DICT, format_prompt
from curate.models.student import prepare_student, tiny_random_student
from curate.training.sft import select_subset, tokenize_example, train

__all__ = ["PROMPT_DICT", "format_prompt", "prepare_student", "select_subset",
           "tiny_random_student", "tokenize_example", "train"]
