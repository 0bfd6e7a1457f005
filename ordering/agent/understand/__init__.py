"""Reading a customer's message offline: the catalog lexicon and the command generator built on it.

`OfflineGenerator(catalog_lexicon(merchant_id)).generate(text=…, context=…)` → commands. See
generator.py for how a message is read and the encodings the policy relies on.
"""

from ordering.agent.understand.generator import OfflineGenerator
from ordering.agent.understand.lexicon import CatalogLexicon, catalog_lexicon, catalog_lexicon_forget

__all__ = ["CatalogLexicon", "OfflineGenerator", "catalog_lexicon", "catalog_lexicon_forget"]
