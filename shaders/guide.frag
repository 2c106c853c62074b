#version 410 core
// Guides: lines keep their colour; the body mesh is lit by a headlight (two-sided Lambert).

uniform bool u_lit;
uniform vec3 u_light;  // world direction towards the light (unit)
in vec3 v_normal;
in vec4 v_color;
out vec4 frag_color;

void main() {
    float shade = u_lit ? 0.35 + 0.65 * abs(dot(normalize(v_normal), u_light)) : 1.0;
    frag_color = vec4(v_color.rgb * shade, v_color.a);
}
