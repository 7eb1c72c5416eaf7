"""Customer voice (客户声音): every input from every channel, one record."""
