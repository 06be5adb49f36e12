// {{WIDTH}}-bit barrel {{ROTATE?rotator|shifter}}: $clog2(WIDTH) stages, dir 0 = left, 1 = right.
module barrel_shifter #(
    parameter WIDTH = {{WIDTH}},
    parameter SW = $clog2(WIDTH)
) (
    input  wire [WIDTH-1:0] data,
    input  wire [SW-1:0]    shamt,
    input  wire             dir,
    output reg  [WIDTH-1:0] out
);
    integer s;
// @if ROTATE
    integer amt;
// @endif

    always @* begin
        out = data;
        for (s = 0; s < SW; s = s + 1) begin
// @if ROTATE
            amt = (1 << s) % WIDTH;
// @endif
            if (shamt[s]) begin
// @if ROTATE
                if (dir) out = (out >> amt) | (out << (WIDTH - amt));
                else     out = (out << amt) | (out >> (WIDTH - amt));
// @else
                if (dir) out = out >> (1 << s);
                else     out = out << (1 << s);
// @endif
            end
        end
    end
endmodule
