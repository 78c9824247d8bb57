"""The reading of a filing's documents: fetching them within the SEC budget (documents,
documents_index), their text and 8-K items, and the typed facts of each form family
(`forms/`, chosen by form type in `facts`). Reading never judges: no priority, no tone.
"""
