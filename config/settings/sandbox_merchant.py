"""The built-in sandbox merchant (catalog_adapters.sandbox). Filled in by the sandbox merchant."""
