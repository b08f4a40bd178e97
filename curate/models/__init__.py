"""Everything that loads weights or calls an endpoint: the OpenAI-compatible teacher client,
the local teacher server, the sentence embedder and its cache, causal-LM loading and masked
response NLL, the student checkpoint. Imports only :mod:`curate.core`; heavy libraries (torch,
transformers, sentence-transformers, openai) are imported inside functions."""
