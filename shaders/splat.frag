#version 410 core
// Gaussian falloff of one splat; output premultiplied by alpha for back-to-front blending
// with glBlendFunc(GL_ONE, GL_ONE_MINUS_SRC_ALPHA). Thresholds as gsplat: alpha < 1/255 is
// skipped, alpha is capped at 0.999.

in vec2 v_offset;
flat in vec3 v_conic;
flat in vec4 v_color;

out vec4 frag_color;

void main() {
    // v_offset is the quad corner offset interpolated to this fragment's centre.
    vec2 d = v_offset;
    float sigma = 0.5 * (v_conic.x * d.x * d.x + v_conic.z * d.y * d.y) + v_conic.y * d.x * d.y;
    if (sigma < 0.0) discard;
    float alpha = min(0.999, v_color.a * exp(-sigma));
    if (alpha < 1.0 / 255.0) discard;
    frag_color = vec4(v_color.rgb * alpha, alpha);
}
