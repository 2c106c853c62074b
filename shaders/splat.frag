#version 410 core
// Gaussian falloff of one splat; output premultiplied by alpha for back-to-front blending
// with glBlendFunc(GL_ONE, GL_ONE_MINUS_SRC_ALPHA). Thresholds as gsplat: alpha < 1/255 is
// skipped, alpha is capped at 0.999.

in vec2 v_sigmas;       // whitened offset from the splat centre (standard deviations)
flat in vec4 v_color;   // rgb, opacity

out vec4 frag_color;

void main() {
    float alpha = min(0.999, v_color.a * exp(-0.5 * dot(v_sigmas, v_sigmas)));
    if (alpha < 1.0 / 255.0) discard;
    frag_color = vec4(v_color.rgb * alpha, alpha);
}
