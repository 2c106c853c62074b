#version 410 core
// Viewport guides (floor grid, skeleton, body mesh): world-space vertices with a colour and a
// normal, transformed by one OpenGL view-projection matrix.

uniform mat4 u_view_projection;  // OpenGL clip from world
layout(location = 0) in vec3 a_position;  // world metres
layout(location = 1) in vec3 a_normal;    // world, unit (zero for lines)
layout(location = 2) in vec4 a_color;     // rgba

out vec3 v_normal;
out vec4 v_color;

void main() {
    gl_Position = u_view_projection * vec4(a_position, 1.0);
    v_normal = a_normal;
    v_color = a_color;
}
