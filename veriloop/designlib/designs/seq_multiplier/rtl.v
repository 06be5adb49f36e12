// {{WIDTH}}x{{WIDTH}} unsigned shift-and-add multiplier ({{WIDTH}} cycles), {{RESET_DESC}}.
module seq_multiplier #(
    parameter WIDTH = {{WIDTH}},
    parameter CW = $clog2(WIDTH + 1)
) (
    input  wire               clk,
    input  wire               {{RST}},
    input  wire               start,
    input  wire [WIDTH-1:0]   a,
    input  wire [WIDTH-1:0]   b,
    output reg                busy,
    output reg                done,
    output reg  [2*WIDTH-1:0] product
);
    localparam [31:0] STEPS32 = WIDTH;
    localparam [CW-1:0] STEPS = STEPS32[CW-1:0];

    reg [2*WIDTH-1:0] mcand;   // multiplicand, shifted left each step
    reg [WIDTH-1:0]   mplier;  // multiplier, shifted right each step
    reg [2*WIDTH-1:0] acc;
    reg [CW-1:0]      left;    // steps remaining

    wire [2*WIDTH-1:0] acc_next = mplier[0] ? acc + mcand : acc;

    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) begin
            busy    <= 1'b0;
            done    <= 1'b0;
            product <= {2*WIDTH{1'b0}};
            mcand   <= {2*WIDTH{1'b0}};
            mplier  <= {WIDTH{1'b0}};
            acc     <= {2*WIDTH{1'b0}};
            left    <= {CW{1'b0}};
        end else begin
            done <= 1'b0;
            if (!busy) begin
                if (start) begin
                    mcand  <= {{WIDTH{1'b0}}, a};
                    mplier <= b;
                    acc    <= {2*WIDTH{1'b0}};
                    left   <= STEPS;
                    busy   <= 1'b1;
                end
            end else begin
                acc    <= acc_next;
                mcand  <= mcand << 1;
                mplier <= mplier >> 1;
                left   <= left - 1'b1;
                if (left == {{(CW-1){1'b0}}, 1'b1}) begin
                    busy    <= 1'b0;
                    done    <= 1'b1;
                    product <= acc_next;
                end
            end
        end
    end
endmodule
