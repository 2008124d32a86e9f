"""The index: document snapshots, embeddings, the vector store and the BM25 keyword index."""
