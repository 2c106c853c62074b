// Avatarium's self-contained avatar player (written into one .html file by core/export/html_player.py).
//
// The page carries the avatar's rest-pose splats and the bone transforms of every motion frame; this
// script unpacks them (base64 → gzip → typed arrays), poses the splats on the GPU by linear blend
// skinning (shaders/web_splat.vert), sorts them back to front on the CPU from their skinned centres,
// and draws them with WebGL 2. Mouse or touch: drag to orbit, shift-drag (or right-drag) to pan, wheel
// or pinch to zoom; space plays and pauses. It makes no network request (the page's
// Content-Security-Policy forbids them).
//
// Frames: world metres, Y up, the person faces +Z; cameras use OpenCV axes (x right, y down, z forward),
// as core.camera. The URL's hash sets the start state, e.g. #clip=walk&time=1.5&play=0&azimuth=30
// (azimuth, elevation and fov in degrees; distance in metres; target=x,y,z; background=r,g,b in
// [0, 1]; ui=0 hides the controls). window.avatarPlayer exposes the state for tests and benchmarks.
"use strict";

(function () {
    const statusBox = document.getElementById("status");
    const player = { ready: false, error: null, framesDrawn: 0, drawMilliseconds: 0, sortMilliseconds: 0 };
    window.avatarPlayer = player;

    function fail(message) {
        player.error = message;
        statusBox.textContent = message;
        statusBox.classList.add("error");
        statusBox.hidden = false;
    }

    function parseHash() {
        const options = {};
        for (const part of window.location.hash.replace(/^#/, "").split("&")) {
            const [key, value] = part.split("=");
            if (key) options[decodeURIComponent(key)] = decodeURIComponent(value || "");
        }
        return options;
    }

    function numbers(text, count) {
        const values = String(text).split(",").map(Number);
        return values.length === count && values.every(Number.isFinite) ? values : null;
    }

    async function unpack(element) {
        const text = atob(element.textContent.trim());
        const bytes = new Uint8Array(text.length);
        for (let i = 0; i < text.length; ++i) bytes[i] = text.charCodeAt(i);
        const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
        return new Response(stream).arrayBuffer();
    }

    // ------------------------------------------------------------------ camera (as core.camera.OrbitCamera)
    function orbitEye(camera) {
        const ce = Math.cos(camera.elevation);
        return [0, 1, 2].map((i) => camera.target[i] + camera.distance * [ce * Math.sin(camera.azimuth),
            Math.sin(camera.elevation), ce * Math.cos(camera.azimuth)][i]);
    }

    function cross(a, b) {
        return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    }

    function normalised(v) {
        const n = Math.hypot(v[0], v[1], v[2]);
        return [v[0] / n, v[1] / n, v[2] / n];
    }

    // World-to-camera rows (right, down, forward) and translation, as core.camera.look_at.
    function lookAt(eye, target) {
        const forward = normalised([target[0] - eye[0], target[1] - eye[1], target[2] - eye[2]]);
        let right = cross(forward, [0, 1, 0]);
        if (Math.hypot(right[0], right[1], right[2]) < 1e-9) right = cross(forward, [0, 0, 1]);
        right = normalised(right);
        const down = cross(forward, right);
        const rows = [right, down, forward];
        const t = rows.map((r) => -(r[0] * eye[0] + r[1] * eye[1] + r[2] * eye[2]));
        return { rows, t };
    }

    // ------------------------------------------------------------------ WebGL
    function compile(gl, type, source) {
        const shader = gl.createShader(type);
        gl.shaderSource(shader, source);
        gl.compileShader(shader);
        if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
            throw new Error("shader compilation failed: " + gl.getShaderInfoLog(shader));
        }
        return shader;
    }

    function floatTexture(gl, unit, data, width, height) {
        const texture = gl.createTexture();
        gl.activeTexture(gl.TEXTURE0 + unit);
        gl.bindTexture(gl.TEXTURE_2D, texture);
        gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
        gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
        gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA32F, width, height, 0, gl.RGBA, gl.FLOAT, data);
        return texture;
    }

    async function start() {
        const meta = JSON.parse(document.getElementById("avatar-meta").textContent);
        const options = parseHash();
        const canvas = document.getElementById("view");
        const gl = canvas.getContext("webgl2", { antialias: false, alpha: false, premultipliedAlpha: true,
                                                 preserveDrawingBuffer: true });
        if (!gl) {
            fail("This player needs WebGL 2, which this browser or its graphics driver does not offer. " +
                 "Try a current Chrome, Edge, Firefox or Safari, or turn on hardware acceleration.");
            return;
        }
        if (typeof DecompressionStream === "undefined") {
            fail("This browser is too old to unpack the avatar (no DecompressionStream); use a current one.");
            return;
        }
        statusBox.textContent = "Unpacking the avatar…";
        const buffer = await unpack(document.getElementById("avatar-data"));
        const section = (s) => new Float32Array(buffer, s.offset, s.length);
        const count = meta.splats, perRow = meta.splatsPerRow, rows = Math.ceil(count / perRow);
        const geometry = section(meta.geometry), skinData = section(meta.skin);
        const widest = Math.max(3, meta.shTexels) * perRow, largest = gl.getParameter(gl.MAX_TEXTURE_SIZE);
        if (widest > largest || rows > largest) {
            fail(`This avatar needs textures of ${widest} × ${rows} texels; this browser's WebGL allows ${largest}. ` +
                 "Export it with fewer splats or without view-dependent colour.");
            return;
        }

        const program = gl.createProgram();
        gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, document.getElementById("splat-vert").textContent.trim()));
        gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, document.getElementById("splat-frag").textContent.trim()));
        gl.linkProgram(program);
        if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
            throw new Error("shader link failed: " + gl.getProgramInfoLog(program));
        }
        gl.useProgram(program);
        const u = {};
        for (const name of ["u_geometry", "u_colors", "u_sh", "u_sh_texels", "u_skin", "u_bones", "u_splats_per_row",
                            "u_eye", "u_view", "u_intrinsics", "u_viewport", "u_near_far"]) {
            u[name] = gl.getUniformLocation(program, name);
        }
        floatTexture(gl, 0, geometry, 3 * perRow, rows);
        floatTexture(gl, 1, section(meta.colors), perRow, rows);
        floatTexture(gl, 2, meta.shTexels ? section(meta.sh) : new Float32Array(4), meta.shTexels ? meta.shTexels * perRow : 1,
                     meta.shTexels ? rows : 1);
        floatTexture(gl, 3, skinData, 2 * perRow, rows);
        const boneTexels = new Float32Array(16 * meta.bones);
        const boneTexture = floatTexture(gl, 4, boneTexels, 4 * meta.bones, 1);
        gl.uniform1i(u.u_geometry, 0);
        gl.uniform1i(u.u_colors, 1);
        gl.uniform1i(u.u_sh, 2);
        gl.uniform1i(u.u_skin, 3);
        gl.uniform1i(u.u_bones, 4);
        gl.uniform1i(u.u_sh_texels, meta.shTexels);
        gl.uniform1i(u.u_splats_per_row, perRow);

        const order = new Uint32Array(3 * count);  // each splat's id on its triangle's three vertices
        const orderBuffer = gl.createBuffer();
        const vao = gl.createVertexArray();
        gl.bindVertexArray(vao);
        gl.bindBuffer(gl.ARRAY_BUFFER, orderBuffer);
        gl.bufferData(gl.ARRAY_BUFFER, order, gl.DYNAMIC_DRAW);
        const location = gl.getAttribLocation(program, "a_splat");
        gl.enableVertexAttribArray(location);
        gl.vertexAttribIPointer(location, 1, gl.UNSIGNED_INT, 0, 0);
        gl.disable(gl.DEPTH_TEST);
        gl.enable(gl.BLEND);
        gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);

        // ---------------------------------------------------------- motions
        const clips = meta.clips.map((clip) => ({ name: clip.name, fps: clip.fps, frames: clip.frames,
            bones: section(clip.bones), root: section(clip.root), duration: (clip.frames - 1) / clip.fps }));
        const state = {
            clip: Math.max(0, clips.findIndex((c) => c.name === options.clip)),
            time: Number.isFinite(Number(options.time)) ? Number(options.time) : 0,
            playing: options.play !== "0",
            background: numbers(options.background || "", 3) || meta.background,
        };
        const fixedTarget = numbers(options.target || "", 3);
        const camera = {
            target: (fixedTarget || meta.camera.target).slice(),
            distance: Number(options.distance) > 0 ? Number(options.distance) : meta.camera.distance,
            azimuth: (Number(options.azimuth) || 0) * Math.PI / 180,
            elevation: (Number(options.elevation) || 0) * Math.PI / 180,
            fov: Number(options.fov) > 0 ? Number(options.fov) : meta.camera.fov,
        };
        let panned = [0, 0, 0];  // the user's pan, added to the target that follows the root

        // Bone texels of the current time: frames blended linearly (quaternions normalised).
        function poseBones(clip, time) {
            const f = Math.min(Math.max(time * clip.fps, 0), clip.frames - 1);
            const i0 = Math.floor(f), i1 = Math.min(i0 + 1, clip.frames - 1), a = f - i0;
            const K = meta.bones, b = clip.bones;
            for (let k = 0; k < K; ++k) {
                const p = 7 * (i0 * K + k), q = 7 * (i1 * K + k);
                const sign = b[p + 3] * b[q + 3] + b[p + 4] * b[q + 4] + b[p + 5] * b[q + 5] + b[p + 6] * b[q + 6] < 0 ? -1 : 1;
                let w = (1 - a) * b[p + 3] + a * sign * b[q + 3], x = (1 - a) * b[p + 4] + a * sign * b[q + 4];
                let y = (1 - a) * b[p + 5] + a * sign * b[q + 5], z = (1 - a) * b[p + 6] + a * sign * b[q + 6];
                const n = Math.hypot(w, x, y, z);
                w /= n; x /= n; y /= n; z /= n;
                const t = [0, 1, 2].map((j) => (1 - a) * b[p + j] + a * b[q + j]);
                const R = [[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                           [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                           [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]];
                const o = 16 * k;
                for (let r = 0; r < 3; ++r) {
                    boneTexels[o + 4 * r] = R[r][0];
                    boneTexels[o + 4 * r + 1] = R[r][1];
                    boneTexels[o + 4 * r + 2] = R[r][2];
                    boneTexels[o + 4 * r + 3] = t[r];
                }
                boneTexels[o + 12] = w; boneTexels[o + 13] = x; boneTexels[o + 14] = y; boneTexels[o + 15] = z;
            }
            return [0, 1, 2].map((j) => (1 - a) * clip.root[3 * i0 + j] + a * clip.root[3 * i1 + j]);
        }

        // Back-to-front order of the skinned centres (16-bit counting sort of the depth; ties keep
        // index order), written into `order`.
        const depths = new Float32Array(count), keys = new Uint16Array(count), counts = new Uint32Array(65536);
        function sortSplats(view) {
            const started = performance.now();
            const [r0, r1, r2] = [view.rows[2][0], view.rows[2][1], view.rows[2][2]];
            let lo = Infinity, hi = -Infinity;
            for (let i = 0; i < count; ++i) {
                const g = 12 * i, s = 8 * i;
                const x = geometry[g], y = geometry[g + 1], z = geometry[g + 2];
                let px = 0, py = 0, pz = 0;
                for (let k = 0; k < 4; ++k) {
                    const w = skinData[s + 4 + k];
                    if (w === 0) continue;
                    const o = 16 * Math.round(skinData[s + k]);
                    const B = boneTexels;
                    px += w * (B[o] * x + B[o + 1] * y + B[o + 2] * z + B[o + 3]);
                    py += w * (B[o + 4] * x + B[o + 5] * y + B[o + 6] * z + B[o + 7]);
                    pz += w * (B[o + 8] * x + B[o + 9] * y + B[o + 10] * z + B[o + 11]);
                }
                const d = r0 * px + r1 * py + r2 * pz;
                depths[i] = d;
                if (d < lo) lo = d;
                if (d > hi) hi = d;
            }
            const scale = hi > lo ? 65535 / (hi - lo) : 0;
            counts.fill(0);
            for (let i = 0; i < count; ++i) {
                const key = Math.floor((hi - depths[i]) * scale);  // far splats first
                keys[i] = key;
                counts[key] += 1;
            }
            let total = 0;
            for (let k = 0; k < 65536; ++k) {
                const c = counts[k];
                counts[k] = total;
                total += c;
            }
            for (let i = 0; i < count; ++i) {
                const slot = 3 * counts[keys[i]]++;
                order[slot] = i;
                order[slot + 1] = i;
                order[slot + 2] = i;
            }
            gl.bindBuffer(gl.ARRAY_BUFFER, orderBuffer);
            gl.bufferSubData(gl.ARRAY_BUFFER, 0, order);
            player.sortMilliseconds += performance.now() - started;
        }

        function resize() {
            const size = numbers(options.size || "", 2);
            const ratio = window.devicePixelRatio || 1;
            const width = size ? size[0] : Math.max(1, Math.round(canvas.clientWidth * ratio));
            const height = size ? size[1] : Math.max(1, Math.round(canvas.clientHeight * ratio));
            if (canvas.width !== width || canvas.height !== height) {
                canvas.width = width;
                canvas.height = height;
            }
        }

        function draw() {
            const started = performance.now();
            resize();
            const clip = clips[state.clip];
            const root = poseBones(clip, state.time);
            if (!fixedTarget) {  // follow the person across the floor, not up and down
                camera.target = [0, 1, 2].map((j) => meta.camera.target[j] + panned[j] + (j === 1 ? 0 : root[j]));
            }
            const eye = orbitEye(camera);
            const view = lookAt(eye, camera.target);
            gl.activeTexture(gl.TEXTURE4);
            gl.bindTexture(gl.TEXTURE_2D, boneTexture);
            gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, 4 * meta.bones, 1, gl.RGBA, gl.FLOAT, boneTexels);
            sortSplats(view);
            const W = canvas.width, H = canvas.height;
            const f = 0.5 * H / Math.tan(camera.fov * Math.PI / 360);
            const R = view.rows, t = view.t;
            gl.uniformMatrix4fv(u.u_view, false, new Float32Array([R[0][0], R[1][0], R[2][0], 0, R[0][1], R[1][1], R[2][1], 0,
                                                                   R[0][2], R[1][2], R[2][2], 0, t[0], t[1], t[2], 1]));
            gl.uniform3fv(u.u_eye, eye);
            gl.uniform4f(u.u_intrinsics, f, f, W / 2, H / 2);
            gl.uniform2f(u.u_viewport, W, H);
            gl.uniform2f(u.u_near_far, Math.max(1e-3, 0.01 * camera.distance), camera.distance + 10 * Math.max(meta.camera.radius, 1e-3));
            gl.viewport(0, 0, W, H);
            gl.clearColor(state.background[0], state.background[1], state.background[2], 1);
            gl.clear(gl.COLOR_BUFFER_BIT);
            gl.bindVertexArray(vao);
            gl.drawArrays(gl.TRIANGLES, 0, 3 * count);
            player.framesDrawn += 1;
            player.drawMilliseconds += performance.now() - started;
        }

        // ---------------------------------------------------------- controls
        const picker = document.getElementById("clip"), playButton = document.getElementById("play");
        const scrub = document.getElementById("scrub"), clock = document.getElementById("clock");
        for (const clip of clips) picker.add(new Option(clip.name, clip.name));
        let dirty = true;
        function showClock() {
            const clip = clips[state.clip];
            picker.value = clip.name;
            scrub.max = String(clip.duration);
            scrub.step = String(1 / clip.fps);
            scrub.value = String(state.time);
            clock.textContent = state.time.toFixed(2) + " / " + clip.duration.toFixed(2) + " s";
            playButton.textContent = state.playing ? "Pause" : "Play";
        }
        picker.addEventListener("change", () => { state.clip = picker.selectedIndex; state.time = 0; dirty = true; showClock(); });
        playButton.addEventListener("click", () => { state.playing = !state.playing; showClock(); });
        scrub.addEventListener("input", () => { state.playing = false; state.time = Number(scrub.value); dirty = true; showClock(); });
        window.addEventListener("keydown", (event) => {
            if (event.code === "Space" && event.target.tagName !== "SELECT") {
                state.playing = !state.playing;
                showClock();
                event.preventDefault();
            }
        });
        const pointers = new Map();
        let pinch = 0;
        canvas.addEventListener("pointerdown", (event) => { canvas.setPointerCapture(event.pointerId); pointers.set(event.pointerId, event); });
        canvas.addEventListener("pointerup", (event) => { pointers.delete(event.pointerId); pinch = 0; });
        canvas.addEventListener("pointercancel", (event) => { pointers.delete(event.pointerId); pinch = 0; });
        canvas.addEventListener("contextmenu", (event) => event.preventDefault());
        canvas.addEventListener("pointermove", (event) => {
            const last = pointers.get(event.pointerId);
            if (!last) return;
            pointers.set(event.pointerId, event);
            if (pointers.size === 2) {  // pinch: zoom by the change of the fingers' distance
                const [a, b] = [...pointers.values()];
                const spread = Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY);
                if (pinch > 0) camera.distance = Math.min(Math.max(camera.distance * pinch / spread, 0.05), 1e3);
                pinch = spread;
            } else {
                const dx = event.clientX - last.clientX, dy = event.clientY - last.clientY;
                if (event.shiftKey || event.buttons === 2) {  // pan in the image plane
                    const metres = 2 * camera.distance * Math.tan(camera.fov * Math.PI / 360) / Math.max(canvas.clientHeight, 1);
                    const view = lookAt(orbitEye(camera), camera.target);
                    const shift = [0, 1, 2].map((j) => -metres * (dx * view.rows[0][j] + dy * view.rows[1][j]));
                    panned = panned.map((v, j) => v + shift[j]);
                    if (fixedTarget) camera.target = camera.target.map((v, j) => v + shift[j]);
                } else {
                    camera.azimuth -= 0.01 * dx;
                    camera.elevation = Math.min(Math.max(camera.elevation + 0.01 * dy, -1.55), 1.55);
                }
            }
            dirty = true;
        });
        canvas.addEventListener("wheel", (event) => {
            camera.distance = Math.min(Math.max(camera.distance * Math.exp(0.001 * event.deltaY), 0.05), 1e3);
            dirty = true;
            event.preventDefault();
        }, { passive: false });
        window.addEventListener("resize", () => { dirty = true; });
        if (options.ui === "0") {
            document.getElementById("controls").hidden = true;
            document.getElementById("hint").hidden = true;
        }

        let last = performance.now();
        function tick(now) {
            const clip = clips[state.clip];
            if (state.playing) {
                state.time = (state.time + (now - last) / 1000) % Math.max(clip.duration, 1e-6);
                showClock();
            }
            last = now;
            if (state.playing || dirty) {
                draw();
                dirty = false;
            }
            requestAnimationFrame(tick);
        }
        statusBox.hidden = true;
        showClock();
        draw();
        dirty = false;
        Object.assign(player, {
            state, camera, clips: clips.map((c) => ({ name: c.name, fps: c.fps, frames: c.frames, duration: c.duration })),
            // Show `clip` at `time` seconds, paused, drawn before this returns.
            show(clipName, time) {
                state.clip = Math.max(0, clips.findIndex((c) => c.name === clipName));
                state.time = time;
                state.playing = false;
                showClock();
                draw();
            },
            play() {
                state.playing = true;
                showClock();
            },
            // Pause, draw the current time and return it (seconds).
            pause() {
                state.playing = false;
                showClock();
                draw();
                return state.time;
            },
            // Play for `seconds` and resolve with the frames drawn per second meanwhile.
            measure(seconds) {
                return new Promise((resolve) => {
                    const frames = player.framesDrawn, drawn = player.drawMilliseconds, sorted = player.sortMilliseconds;
                    const begin = performance.now();
                    state.playing = true;
                    setTimeout(() => {
                        const elapsed = (performance.now() - begin) / 1000, n = player.framesDrawn - frames;
                        resolve({ fps: n / elapsed, frames: n, seconds: elapsed,
                                  drawMilliseconds: (player.drawMilliseconds - drawn) / Math.max(n, 1),
                                  sortMilliseconds: (player.sortMilliseconds - sorted) / Math.max(n, 1) });
                    }, 1000 * seconds);
                });
            },
        });
        player.ready = true;
        requestAnimationFrame(tick);
    }

    start().catch((error) => fail("The avatar could not be shown: " + error.message));
})();
