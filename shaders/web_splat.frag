#version 300 es
// The HTML player's splat falloff (GLSL ES 3.00), as shaders/splat.frag: output premultiplied by alpha
// for back-to-front blending with blendFunc(ONE, ONE_MINUS_SRC_ALPHA); alpha < 1/255 is skipped,
// alpha is capped at 0.999 (gsplat's thresholds).
precision highp float;

in vec2 v_sigmas;       // whitened offset from the splat centre (standard deviations)
flat in vec4 v_color;   // rgb, opacity

out vec4 frag_color;

void main() {
    float alpha = min(0.999, v_color.a * exp(-0.5 * dot(v_sigmas, v_sigmas)));
    if (alpha < 1.0 / 255.0) discard;
    frag_color = vec4(v_color.rgb * alpha, alpha);
}
