"""Handlers per resource group (`rpc/<resource>.py`), for when the servicer outgrows one file;
`servicer.py` then delegates to them."""
