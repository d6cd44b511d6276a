"""Attendance and staff rules (第四篇 考勤制度, 第五篇 值班表/值日表/奖罚评分表): punches, leave, rosters, sheets."""
