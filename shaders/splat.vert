#version 410 core
// Pass 2 of splat drawing: one triangle (vertices 3i..3i+2) per projected splat, circumscribing
// the ellipse where alpha ≥ 1/255; projected splats are already in back-to-front order. One
// triangle instead of a quad halves the primitive count, which bounds software renderers.

uniform samplerBuffer u_projected;  // 3 texels per splat, written by splat_project.vert
uniform vec2 u_viewport;            // width, height (pixels)

out vec2 v_sigmas;                  // offset from the splat centre along its two half-axes, in standard deviations
flat out vec4 v_color;              // rgb, opacity

// Equilateral triangle around the unit circle, in units of the ellipse's half-axes.
const vec2 CORNERS[3] = vec2[3](vec2(-1.7320508, -1.0), vec2(1.7320508, -1.0), vec2(0.0, 2.0));

void main() {
    int splat = gl_VertexID / 3;
    vec4 center_axis = texelFetch(u_projected, 3 * splat);
    vec4 color = texelFetch(u_projected, 3 * splat + 2);
    if (color.a <= 0.0) {  // culled in the projection pass
        gl_Position = vec4(0.0, 0.0, 2.0, 1.0);
        return;
    }
    vec4 minor_extent = texelFetch(u_projected, 3 * splat + 1);
    vec2 minor = minor_extent.x * normalize(vec2(-center_axis.w, center_axis.z));
    vec2 corner = CORNERS[gl_VertexID - 3 * splat];
    vec2 pixel = center_axis.xy + corner.x * center_axis.zw + corner.y * minor;
    gl_Position = vec4(2.0 * pixel.x / u_viewport.x - 1.0, 1.0 - 2.0 * pixel.y / u_viewport.y, 0.0, 1.0);
    // The half-axes are the covariance's eigenvectors scaled to minor_extent.y standard deviations, so
    // this offset, interpolated linearly to a fragment, is its whitened offset: dᵀΣ⁻¹d = |v_sigmas|².
    v_sigmas = corner * minor_extent.y;
    v_color = color;
}
