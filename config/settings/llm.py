"""The dialog manager's language model: any OpenAI-compatible endpoint, or none (the offline reader).

With LLM_BASE_URL and LLM_MODEL set (and LLM_API_KEY where the endpoint needs one), the model reads each
message into commands through tool calling (`ordering.agent.llm`); without them, or when it fails, the
offline command generator grounded in the merchant's catalog (`ordering.agent.understand`) reads it.
"""

from config.env import env_int, env_str

LLM_BASE_URL = env_str("LLM_BASE_URL")
LLM_API_KEY = env_str("LLM_API_KEY")
LLM_MODEL = env_str("LLM_MODEL")
LLM_TIMEOUT_SECONDS = env_int("LLM_TIMEOUT_SECONDS", 20)
# Recent messages the prompt carries (the rest of the conversation travels as the dialogue context).
LLM_RECENT_MESSAGES = env_int("LLM_RECENT_MESSAGES", 8)
# "required" makes the model answer with commands; endpoints that refuse it work with "auto".
LLM_TOOL_CHOICE = env_str("LLM_TOOL_CHOICE", "required")
