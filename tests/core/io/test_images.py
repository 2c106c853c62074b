
import numpy as np
import pytest
from photos import PHOTOS, needs_photos
from PIL import Image

from core.io.images import ImageLoadError, load_image


def gradient(width=60, height=40) -> np.ndarray:
    x = np.linspace(0, 255, width, dtype=np.uint8)
    y = np.linspace(0, 255, height, dtype=np.uint8)
    return np.stack([np.tile(x, (height, 1)), np.tile(y[:, None], (1, width)), np.full((height, width), 90, np.uint8)],
                    -1)


def test_exif_orientation_is_applied(tmp_path):
    pixels = gradient()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    Image.fromarray(pixels).save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    photo = load_image(tmp_path / "rotated.jpg")
    assert photo.rgb.shape == (60, 40, 3)  # portrait after rotation
    expected = np.rot90(pixels, k=-1)
    assert np.abs(photo.rgb.astype(int) - expected).mean() < 4


def test_modes_are_converted(tmp_path):
    rgba = np.dstack([gradient(), np.full((40, 60), 128, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "cutout.png")
    photo = load_image(tmp_path / "cutout.png")
    assert photo.alpha is not None and (photo.alpha == 128).all() and photo.rgb.shape == (40, 60, 3)

    sixteen = (np.linspace(0, 65535, 60 * 40).reshape(40, 60)).astype(np.uint16)
    Image.fromarray(sixteen).save(tmp_path / "deep.png")  # a 16-bit greyscale PNG
    deep = load_image(tmp_path / "deep.png")
    assert deep.rgb.dtype == np.uint8 and deep.rgb[0, 0, 0] == 0 and deep.rgb[-1, -1, 0] == 255

    Image.fromarray(gradient()).convert("CMYK").save(tmp_path / "print.jpg", quality=95)
    cmyk = load_image(tmp_path / "print.jpg")
    assert cmyk.rgb.shape == (40, 60, 3) and np.abs(cmyk.rgb.astype(int) - gradient()).mean() < 6

    palette = Image.fromarray(gradient()).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    palette.info["transparency"] = 0
    palette.save(tmp_path / "palette.png", transparency=0)
    assert load_image(tmp_path / "palette.png").alpha is not None

    Image.fromarray(gradient()[..., 0]).save(tmp_path / "grey.bmp")
    grey = load_image(tmp_path / "grey.bmp")
    assert grey.rgb.shape == (40, 60, 3) and (grey.rgb[..., 0] == grey.rgb[..., 1]).all()

    Image.fromarray(gradient()).save(tmp_path / "photo.webp", lossless=True)
    assert np.array_equal(load_image(tmp_path / "photo.webp").rgb, gradient())
    Image.fromarray(gradient()).save(tmp_path / "scan.tiff")
    assert np.array_equal(load_image(tmp_path / "scan.tiff").rgb, gradient())


def test_animated_gives_first_frame(tmp_path):
    frames = [Image.fromarray(np.full((20, 30, 3), v, np.uint8)) for v in (10, 200, 100)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    photo = load_image(tmp_path / "anim.gif")
    assert photo.rgb.shape == (20, 30, 3) and abs(int(photo.rgb.mean()) - 10) <= 2


def test_large_photos_are_downscaled_keeping_the_original(tmp_path):
    Image.fromarray(np.zeros((3000, 1000, 3), np.uint8)).save(tmp_path / "tall.png")
    photo = load_image(tmp_path / "tall.png", max_side=1500)
    assert photo.rgb.shape == (1500, 500, 3) and photo.original_rgb.shape == (3000, 1000, 3)
    assert photo.scale == pytest.approx(0.5) and photo.size == (500, 1500)


def test_bad_files_raise_typed_errors(tmp_path):
    Image.fromarray(gradient()).save(tmp_path / "good.jpg")
    data = (tmp_path / "good.jpg").read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.png").write_text("not an image at all")
    Image.new("1", (12000, 12500)).save(tmp_path / "bomb.png")  # 150 megapixels of zeros, a tiny file
    cases = {"truncated.jpg": "damaged or truncated", "empty.png": "not an image", "notes.png": "not an image",
             "missing.png": "does not exist", "bomb.png": "megapixels"}
    for name, message in cases.items():
        with pytest.raises(ImageLoadError, match=message):
            load_image(tmp_path / name, max_pixels=100_000_000)
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)


@needs_photos
def test_real_photos_load():
    photos = sorted(p for p in PHOTOS.iterdir() if p.suffix in (".png", ".jpg"))
    assert len(photos) >= 9
    for path in photos:
        photo = load_image(path)
        assert photo.rgb.ndim == 3 and photo.rgb.shape[2] == 3 and min(photo.size) >= 64, path.name
    cutout = load_image(PHOTOS / "18_pshuman_pexels_cutout_rgba.png")
    assert cutout.alpha is not None and 0.05 < (cutout.alpha > 127).mean() < 0.95


def test_crop_photo_cuts_processing_copy_and_original(tmp_path):
    from core.io.images import crop_photo

    big = np.zeros((300, 400, 4), np.uint8)
    big[..., 0] = np.arange(400)[None, :] % 256
    big[..., 3] = 255
    Image.fromarray(big, "RGBA").save(tmp_path / "big.png")
    photo = load_image(tmp_path / "big.png", max_side=200)  # processed at half size
    part = crop_photo(photo, (50, 20, 150, 90))
    assert part.size == (100, 70) and part.alpha.shape == (70, 100)
    assert part.original_rgb.shape == (140, 200, 3) and part.original_rgb[0, 0, 0] == 100
    with pytest.raises(ValueError, match="leaves no pixels"):
        crop_photo(photo, (500, 500, 600, 600))
