"""Knowledge loading, chunking, embedding and the FAISS/BM25 store behind mlready's answers."""
