"""Running a per-part stage (lemmatize, classify) over the week partitions that changed.

``plan`` compares each input part's fingerprint and the versions of the lemmatiser, model and
taxonomy with what the output's manifest recorded and lists the parts to compute; ``tasks``
holds the one function that computes a part (the same on every engine); ``local`` runs them in
this process or in worker processes, ``spark`` on Apache Spark with ``mapInPandas``.
"""
