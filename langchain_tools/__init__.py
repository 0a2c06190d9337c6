"""LangChain adapter over the smooth_agents core (built in a later issue)."""
