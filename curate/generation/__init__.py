"""Self-instruct generation the way Alpaca did it (``generate_instruction.py``)."""
