"""The dialog manager's language model: any OpenAI-compatible endpoint, or none (the built-in parser).

With LLM_BASE_URL and LLM_MODEL set (and LLM_API_KEY where the endpoint needs one), the `openai`
package drives tool calling; without them the deterministic parser serves every turn.
"""

from config.env import env_int, env_str

LLM_BASE_URL = env_str("LLM_BASE_URL")
LLM_API_KEY = env_str("LLM_API_KEY")
LLM_MODEL = env_str("LLM_MODEL")
LLM_TIMEOUT_SECONDS = env_int("LLM_TIMEOUT_SECONDS", 20)
# Tool rounds the model may take in one customer turn before we stop it and fall back.
LLM_MAX_TOOL_ROUNDS = env_int("LLM_MAX_TOOL_ROUNDS", 6)
# Recent messages the prompt carries (the rest of the conversation is summarized as state).
LLM_RECENT_MESSAGES = env_int("LLM_RECENT_MESSAGES", 8)
