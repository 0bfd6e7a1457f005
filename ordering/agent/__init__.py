"""The ordering agent: a command-based dialog manager.

`commands` is what a customer's message asks for, as data; `understand` is the offline command
generator grounded in the merchant's catalog and `llm` the language-model one (both only read);
`policy` executes commands with the `tools` inside a `turn` and keeps the invariants (explicit
confirmation of the latest preview, nothing substituted, every named choice answered, limits checked
before a preview); `pipeline.turn_run` is one customer turn. See docs/conversation-api.md.
"""
