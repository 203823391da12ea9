"""Drug names: a dictionary of medications (brands, synonyms, ICU shorthand) and their ids."""

from streamproc.nlp.drugs.lexicon import DrugLexicon, DrugMatch, packaged_lexicon

__all__ = ["DrugLexicon", "DrugMatch", "packaged_lexicon"]
