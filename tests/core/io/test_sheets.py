import numpy as np

from core.io.sheets import grid, stack_rows, to_height


def test_sheets_scale_pad_and_lay_out():
    tall = np.full((40, 20, 3), 200, np.uint8)
    assert to_height(tall, 20).shape == (20, 10, 3)
    assert to_height(np.ones((10, 10, 3), np.float32), 5).max() == 255  # floats in [0, 1] become uint8
    rows = stack_rows([np.zeros((5, 8, 3), np.uint8), np.zeros((5, 3, 3), np.uint8)], fill=255)
    assert rows.shape == (10, 8, 3) and rows[5:, 3:].min() == 255 and rows[5:, :3].max() == 0
    sheet = grid([np.full((4, w, 3), 9, np.uint8) for w in (2, 5, 3)], columns=2)
    assert sheet.shape == (8, 10, 3)  # two rows of two cells five wide, the last cell empty
    assert sheet[:4, :2].min() == 9 and sheet[:4, 2:5].max() == 0 and sheet[4:, 5:].max() == 0
