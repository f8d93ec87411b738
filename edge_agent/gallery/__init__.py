"""The edge's gallery: residents' face templates, 1:N matching with FAISS, open-set decisions,
stranger clustering, and the encrypted store they live in. Nothing here ever leaves the edge.
"""
