"""Training recipes: datasets (`recipes.data`), configs (`recipes.configs`), the runner
(`recipes.train`) and the evaluation that writes model cards (`recipes.evaluate`).

    from recipes import data
    ds = data.dataset("rts_fashion_mnist", split="train")
"""
