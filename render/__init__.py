"""Pictures: printable invite posters (QR codes) and the weekly digest chart.

Pure rendering with Pillow/qrcode/matplotlib; no Telegram, no database.
"""
