"""Early warning (客户预警): customers who may be slipping away, each with its reasons."""
