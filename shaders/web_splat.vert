#version 300 es
// The HTML player's splats (WebGL2, GLSL ES 3.00): one triangle per splat (vertices 3r..3r+2 draw the
// splat of rank r), splats drawn in the back-to-front order the a_splat attribute gives (one draw of
// plain triangles: software renderers run an instanced draw an instance at a time). The maths of the desktop viewport's two
// passes (splat_project.vert, then splat.vert) in one: linear blend skinning, gsplat's perspective
// projection (classic mode, Σ' = J W Σ Wᵀ Jᵀ + 0.3·I in pixels², pixel centres at +0.5), the ellipse
// where alpha ≥ 1/255 circumscribed by an equilateral triangle. Texture layouts:
// core/render/viewport_data.py. Camera: OpenCV axes, u_view = world-to-camera.
precision highp float;
precision highp int;
precision highp sampler2D;

in uint a_splat;                // splat id of this vertex's triangle

uniform sampler2D u_geometry;   // 3 texels per splat: [x y z opacity] [Sxx Sxy Sxz Syy] [Syz Szz - -], rest pose
uniform sampler2D u_colors;     // 1 texel per splat: [r g b 1], the degree-0 colour (not clamped)
uniform sampler2D u_sh;         // u_sh_texels texels per splat: SH coefficients 1.. as rgb triplets
uniform int u_sh_texels;        // 0, 3, 6, 12 for SH degree 0, 1, 2, 3
uniform sampler2D u_skin;       // 2 texels per splat: 4 bone indices, 4 weights
uniform sampler2D u_bones;      // 4 texels per bone: rows of its 3x4 transform (posed · rest⁻¹), quaternion (wxyz)
uniform int u_splats_per_row;
uniform vec3 u_eye;             // camera centre (world, metres)
uniform mat4 u_view;            // world -> camera
uniform vec4 u_intrinsics;      // fx, fy, cx, cy (pixels)
uniform vec2 u_viewport;        // width, height (pixels)
uniform vec2 u_near_far;        // clip depths (metres)

out vec2 v_sigmas;              // offset from the splat centre along its two half-axes, in standard deviations
flat out vec4 v_color;          // rgb, opacity

const float ALPHA_THRESHOLD = 1.0 / 255.0;
const float SH_C1 = 0.4886025119029199;
const float SH_C2[5] = float[5](1.0925484305920792, -1.0925484305920792, 0.31539156525252005,
                                -1.0925484305920792, 0.5462742152960396);
const float SH_C3[7] = float[7](-0.5900435899266435, 2.890611442640554, -0.4570457994644658,
                                0.3731763325901154, -0.4570457994644658, 1.445305721320277,
                                -0.5900435899266435);
// Equilateral triangle around the unit circle, in units of the ellipse's half-axes.
const vec2 CORNERS[3] = vec2[3](vec2(-1.7320508, -1.0), vec2(1.7320508, -1.0), vec2(0.0, 2.0));

void cull() {
    gl_Position = vec4(0.0, 0.0, 2.0, 1.0);  // outside the clip volume: the triangle is dropped
    v_sigmas = vec2(0.0);
    v_color = vec4(0.0);
}

mat3 quat_to_mat(vec4 q) {  // wxyz, unit; GLSL matrices are column-major
    float w = q.x, x = q.y, y = q.z, z = q.w;
    return mat3(1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y + w * z), 2.0 * (x * z - w * y),
                2.0 * (x * y - w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z + w * x),
                2.0 * (x * z + w * y), 2.0 * (y * z - w * x), 1.0 - 2.0 * (x * x + y * y));
}

ivec2 texel_of(int splat, int texels) {
    return ivec2(texels * (splat % u_splats_per_row), splat / u_splats_per_row);
}

// Linear blend skinning as core.avatar.skinning: mean by the blended 3x4 transform, covariance
// rotated by the normalised blend of the bones' quaternions (scales unchanged).
void skin(int splat, inout vec3 mean, inout mat3 sigma) {
    ivec2 texel = texel_of(splat, 2);
    vec4 bones = texelFetch(u_skin, texel, 0);
    vec4 weights = texelFetch(u_skin, texel + ivec2(1, 0), 0);
    vec4 row0 = vec4(0.0), row1 = vec4(0.0), row2 = vec4(0.0), quat = vec4(0.0);
    for (int k = 0; k < 4; ++k) {
        int bone = int(bones[k] + 0.5);
        float w = weights[k];
        row0 += w * texelFetch(u_bones, ivec2(4 * bone, 0), 0);
        row1 += w * texelFetch(u_bones, ivec2(4 * bone + 1, 0), 0);
        row2 += w * texelFetch(u_bones, ivec2(4 * bone + 2, 0), 0);
        quat += w * texelFetch(u_bones, ivec2(4 * bone + 3, 0), 0);
    }
    vec4 m = vec4(mean, 1.0);
    mean = vec3(dot(row0, m), dot(row1, m), dot(row2, m));
    mat3 R = quat_to_mat(normalize(quat));
    sigma = R * sigma * transpose(R);
}

// Colour of the splat seen along dir (unit, camera centre to splat) as core.render.offline has it:
// degree 0 clamped to [0, 1]; higher degrees (INRIA convention) clamped at 0 only.
vec3 view_color(int splat, vec3 base, vec3 dir) {
    if (u_sh_texels == 0) return clamp(base, 0.0, 1.0);
    ivec2 texel = texel_of(splat, u_sh_texels);
    vec4 t0 = texelFetch(u_sh, texel, 0);
    vec4 t1 = texelFetch(u_sh, texel + ivec2(1, 0), 0);
    vec4 t2 = texelFetch(u_sh, texel + ivec2(2, 0), 0);
    float x = dir.x, y = dir.y, z = dir.z;
    vec3 rgb = base - SH_C1 * y * t0.xyz + SH_C1 * z * vec3(t0.w, t1.xy) - SH_C1 * x * vec3(t1.zw, t2.x);
    if (u_sh_texels > 3) {
        vec4 t3 = texelFetch(u_sh, texel + ivec2(3, 0), 0);
        vec4 t4 = texelFetch(u_sh, texel + ivec2(4, 0), 0);
        vec4 t5 = texelFetch(u_sh, texel + ivec2(5, 0), 0);
        float xx = x * x, yy = y * y, zz = z * z;
        rgb += SH_C2[0] * x * y * t2.yzw + SH_C2[1] * y * z * t3.xyz
             + SH_C2[2] * (2.0 * zz - xx - yy) * vec3(t3.w, t4.xy) + SH_C2[3] * x * z * vec3(t4.zw, t5.x)
             + SH_C2[4] * (xx - yy) * t5.yzw;
        if (u_sh_texels > 6) {
            vec4 t6 = texelFetch(u_sh, texel + ivec2(6, 0), 0);
            vec4 t7 = texelFetch(u_sh, texel + ivec2(7, 0), 0);
            vec4 t8 = texelFetch(u_sh, texel + ivec2(8, 0), 0);
            vec4 t9 = texelFetch(u_sh, texel + ivec2(9, 0), 0);
            vec4 t10 = texelFetch(u_sh, texel + ivec2(10, 0), 0);
            vec4 t11 = texelFetch(u_sh, texel + ivec2(11, 0), 0);
            rgb += SH_C3[0] * y * (3.0 * xx - yy) * t6.xyz + SH_C3[1] * x * y * z * vec3(t6.w, t7.xy)
                 + SH_C3[2] * y * (4.0 * zz - xx - yy) * vec3(t7.zw, t8.x)
                 + SH_C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy) * t8.yzw
                 + SH_C3[4] * x * (4.0 * zz - xx - yy) * t9.xyz + SH_C3[5] * z * (xx - yy) * vec3(t9.w, t10.xy)
                 + SH_C3[6] * x * (xx - 3.0 * yy) * vec3(t10.zw, t11.x);
        }
    }
    return max(rgb, 0.0);
}

void main() {
    int splat = int(a_splat);
    ivec2 texel = texel_of(splat, 3);
    vec4 g0 = texelFetch(u_geometry, texel, 0);
    vec4 g1 = texelFetch(u_geometry, texel + ivec2(1, 0), 0);
    vec4 g2 = texelFetch(u_geometry, texel + ivec2(2, 0), 0);
    vec3 mean = g0.xyz;
    mat3 sigma = mat3(g1.x, g1.y, g1.z,
                      g1.y, g1.w, g2.x,
                      g1.z, g2.x, g2.y);
    skin(splat, mean, sigma);
    vec3 p = (u_view * vec4(mean, 1.0)).xyz;
    float opacity = g0.w;
    if (p.z < u_near_far.x || p.z > u_near_far.y || opacity < ALPHA_THRESHOLD) { cull(); return; }

    float fx = u_intrinsics.x, fy = u_intrinsics.y, cx = u_intrinsics.z, cy = u_intrinsics.w;
    float lim_x_pos = (u_viewport.x - cx) / fx + 0.3 * (0.5 * u_viewport.x / fx);
    float lim_x_neg = cx / fx + 0.3 * (0.5 * u_viewport.x / fx);
    float lim_y_pos = (u_viewport.y - cy) / fy + 0.3 * (0.5 * u_viewport.y / fy);
    float lim_y_neg = cy / fy + 0.3 * (0.5 * u_viewport.y / fy);
    float rz = 1.0 / p.z;
    float tx = p.z * clamp(p.x * rz, -lim_x_neg, lim_x_pos);
    float ty = p.z * clamp(p.y * rz, -lim_y_neg, lim_y_pos);
    // T = J W, the 2x3 map from world offsets to pixels; GLSL mat3x2 = 3 columns of vec2.
    mat3x2 J = mat3x2(fx * rz, 0.0, 0.0, fy * rz, -fx * tx * rz * rz, -fy * ty * rz * rz);
    mat3x2 T = J * mat3(u_view);
    mat2 cov2d = T * sigma * transpose(T);
    float a = cov2d[0][0] + 0.3, b = cov2d[0][1], c = cov2d[1][1] + 0.3;
    float det = a * c - b * b;
    if (det <= 0.0) { cull(); return; }
    vec2 center = vec2(fx * p.x * rz + cx, fy * p.y * rz + cy);

    // Semi-axes of the ellipse where opacity·exp(-½ dᵀΣ⁻¹d) ≥ 1/255.
    float extend = min(3.33, sqrt(2.0 * log(opacity / ALPHA_THRESHOLD)));
    float mid = 0.5 * (a + c);
    float spread = sqrt(max(0.25 * (a - c) * (a - c) + b * b, 0.0));
    float lambda1 = mid + spread, lambda2 = max(mid - spread, 0.0);
    vec2 dir1 = abs(b) > 1e-12 * (a + c) ? normalize(vec2(b, lambda1 - a)) : (a >= c ? vec2(1.0, 0.0) : vec2(0.0, 1.0));
    vec2 axis1 = extend * sqrt(lambda1) * dir1;
    vec2 axis2 = extend * sqrt(lambda2) * vec2(-dir1.y, dir1.x);  // perpendicular to axis1
    vec2 reach = abs(axis1) + abs(axis2);
    if (center.x + reach.x <= 0.0 || center.x - reach.x >= u_viewport.x ||
        center.y + reach.y <= 0.0 || center.y - reach.y >= u_viewport.y) { cull(); return; }

    vec2 corner = CORNERS[gl_VertexID % 3];
    vec2 pixel = center + corner.x * axis1 + corner.y * axis2;
    gl_Position = vec4(2.0 * pixel.x / u_viewport.x - 1.0, 1.0 - 2.0 * pixel.y / u_viewport.y, 0.0, 1.0);
    // The half-axes are the covariance's eigenvectors scaled to `extend` standard deviations, so this
    // offset, interpolated linearly to a fragment, is its whitened offset: dᵀΣ⁻¹d = |v_sigmas|².
    v_sigmas = corner * extend;
    vec3 base = texelFetch(u_colors, texel_of(splat, 1), 0).rgb;
    v_color = vec4(view_color(splat, base, normalize(mean - u_eye)), opacity);
}
