"""What people look at: the per-file figure of `sesqa score --plot` and the HTML page of `sesqa report`.

`figure` draws a scored file (spectrogram, score over time, degradation types over time) from a
ScoreResult and the audio read again (`spectrogram`); `report` streams a batch into one HTML page
(Jinja2 template in `templates/`). matplotlib and Jinja2 load on first use.
"""
