"""A Latin-script line recogniser fine-tuned from the shipped PP-OCRv4 one (`python -m models.latin_rec`)."""
