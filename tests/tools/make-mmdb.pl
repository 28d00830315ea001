#!/usr/bin/perl
# make-mmdb.pl: writes a small MaxMind-format Country database for tests,
# shaped like GeoLite2-Country: {country => {iso_code => "DE"}}.
#
#   make-mmdb.pl out.mmdb 203.0.113.0/26=DE 203.0.113.64/26=US 2001:db8::/32=FR
#
# A network given as NET=CC/RC sets country CC and registered_country RC;
# NET=/RC sets only registered_country (as for anonymous networks).
# Reserved and private networks (documentation prefixes included) are
# allowed, since that is what tests use.
use strict;
use warnings;

use MaxMind::DB::Writer::Tree;

die "usage: $0 OUT.mmdb NET=CC[/RC] ...\n" if @ARGV < 1;
my $out = shift @ARGV;

my $tree = MaxMind::DB::Writer::Tree->new(
	ip_version            => 6,
	record_size           => 24,
	database_type         => 'egress-test-Country',
	languages             => ['en'],
	description           => { en => 'egress test country database' },
	map_key_type_callback => sub { $_[0] eq 'iso_code' ? 'utf8_string' : 'map' },
	remove_reserved_networks => 0,
	alias_ipv6_to_ipv4    => 1,
);

for my $arg (@ARGV) {
	my ($net, $codes) = split /=/, $arg, 2;
	die "bad argument '$arg': expected NET=CC[/RC]\n" unless defined $codes;
	my ($cc, $rc) = split m{/}, $codes, 2;
	my %rec;
	$rec{country} = { iso_code => $cc } if length($cc // '');
	$rec{registered_country} = { iso_code => $rc } if length($rc // '');
	$tree->insert_network($net, \%rec);
}

open my $fh, '>:raw', $out or die "cannot write $out: $!\n";
$tree->write_tree($fh);
close $fh or die "cannot write $out: $!\n";
