"""The wholesale market's management office (商贸城管理部, 第四篇): fees, patrols, hazards."""
