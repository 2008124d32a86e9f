"""政策アシスタント: retrieval, answering, API and UI over the 産学官連携 policy corpus."""
