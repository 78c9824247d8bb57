"""The stream machinery of analyze: the transactional consume-analyze-produce loop
(processor), the offsets it holds in flight, the topic sizes it reports, and the compacted
topic behind the analysis cache. It drives `pipeline.FilingAnalyzer` and knows nothing of forms.
"""
