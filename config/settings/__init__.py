"""Settings, split by concern.

`base` composes the concern modules; `dev`, `test` and `production` adjust it for their use.
Every value comes from the environment (see config/env.py and the README's table).
"""
