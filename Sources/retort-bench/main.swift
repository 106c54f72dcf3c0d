print("retort-bench")
