"""The judgement of a filing: the offline rules (offline, insider, sentiment, lexicon) and the
LLM (llm, its prompt, client, answer and cache), both yielding an `AnalyzerOutcome`.
"""
