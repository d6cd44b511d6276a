"""The online shop's after-sales desk (电商客服, 第五篇 客服工作职责)."""
